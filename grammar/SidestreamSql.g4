grammar SidestreamSql;
statement: EOF;
