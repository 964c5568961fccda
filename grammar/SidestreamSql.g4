// Sidestream SQL: the ksqlDB dialect plus Sidestream's extensions (WATERMARK in DDL).
// Layout and most rule names follow ksqlDB's SqlBase.g4 so its docs and tests carry over.
// Keywords are case-insensitive through fragment letters (the 4.7.2 tool has no
// caseInsensitive option). engine/sql/parser.cc turns the parse tree into the AST and
// does the checks a grammar cannot express well (time units, window options, literals).
grammar SidestreamSql;

// ------------------------------------------------------------------ entry points

script
    : SEMICOLON* (statement (SEMICOLON+ statement)* SEMICOLON*)? EOF
    ;

singleExpression
    : expression EOF
    ;

// ------------------------------------------------------------------ statements

statement
    : query                                                                   #queryStatement
    | (LIST | SHOW) ALL? TOPICS EXTENDED?                                     #showTopics
    | (LIST | SHOW) showTarget EXTENDED?                                      #showStatement
    | DESCRIBE (STREAMS | TABLES) EXTENDED?                                   #describeSources
    | DESCRIBE FUNCTION identifier                                            #describeFunction
    | DESCRIBE CONNECTOR identifier                                           #describeConnector
    | DESCRIBE EXTENDED? sourceName EXTENDED?                                 #describeSource
    | EXPLAIN (statement | identifier)                                        #explain
    | TERMINATE ALL                                                           #terminateAll
    | TERMINATE identifier                                                    #terminateQuery
    | PAUSE (ALL | identifier)                                                #pauseQuery
    | RESUME (ALL | identifier)                                               #resumeQuery
    | SET STRING_LITERAL EQ STRING_LITERAL                                    #setProperty
    | UNSET STRING_LITERAL                                                    #unsetProperty
    | CREATE (OR REPLACE)? SOURCE? sourceKind (IF NOT EXISTS)? sourceName
          tableElements? (WITH tableProperties)?                              #createSource
    | CREATE (OR REPLACE)? sourceKind (IF NOT EXISTS)? sourceName
          (WITH tableProperties)? AS query                                    #createAsSelect
    | CREATE TYPE (IF NOT EXISTS)? identifier AS type                         #createType
    | INSERT INTO sourceName (WITH tableProperties)? query                    #insertInto
    | INSERT INTO sourceName columns? VALUES values                           #insertValues
    | DROP sourceKind (IF EXISTS)? sourceName (DELETE TOPIC)?                 #dropSource
    | DROP TYPE (IF EXISTS)? identifier                                       #dropType
    | CREATE (SINK | SOURCE) CONNECTOR (IF NOT EXISTS)? identifier
          WITH tableProperties                                                #createConnector
    | DROP CONNECTOR (IF EXISTS)? identifier                                  #dropConnector
    ;

showTarget
    : STREAMS | TABLES | QUERIES | PROPERTIES | FUNCTIONS | TYPES | CONNECTORS
    ;

sourceKind
    : STREAM | TABLE
    ;

// ------------------------------------------------------------------ queries

query
    : SELECT selectItem (COMMA selectItem)*
      FROM relation
      (WINDOW window=windowExpression)?
      (WHERE where=expression)?
      (WINDOW lateWindow=windowExpression)?
      (GROUP BY groupBy=expressionList)?
      (PARTITION BY partitionBy=expressionList)?
      (HAVING having=expression)?
      (EMIT emitMode)?
      // Any number, as ksqlDB's grammar takes: the builder refuses all but integers, and
      // pull queries negative ones, with ksqlDB's messages.
      (LIMIT limitSign=MINUS? limit=(INTEGER_VALUE | DECIMAL_VALUE | FLOATING_POINT_VALUE))?
    ;

emitMode
    : CHANGES | FINAL
    ;

// GROUP BY a, b  or  GROUP BY (a, b), as ksqlDB allows both.
expressionList
    : valueExpression (COMMA valueExpression)*
    | LPAREN (valueExpression (COMMA valueExpression)*)? RPAREN
    ;

selectItem
    : ASTERISK                                          #selectAll
    | identifier DOT ASTERISK                           #selectAllOf
    | expression (ARROW ASTERISK | AS? identifier)?     #selectSingle
    ;

relation
    : aliasedRelation joinedSource*
    | sourceName matchRecognize (AS? alias=identifier)?
    ;

// Row pattern recognition, Flink SQL's subset of SQL:2016. Options that are recognised but
// not built (ALL ROWS PER MATCH, SKIP TO a variable) are refused by the AST builder.
matchRecognize
    : MATCH_RECOGNIZE LPAREN
      (PARTITION BY partitionBy+=valueExpression (COMMA partitionBy+=valueExpression)*)?
      (ORDER BY orderBy+=sortItem (COMMA orderBy+=sortItem)*)?
      (MEASURES measure (COMMA measure)*)?
      rowsPerMatch?
      afterMatchSkip?
      PATTERN LPAREN patternAlternation RPAREN
      (WITHIN (withinDuration=duration | withinInterval=primaryExpression))?
      DEFINE patternDefinition (COMMA patternDefinition)*
      RPAREN
    ;

sortItem
    : valueExpression (ASC | DESC)?
    ;

measure
    : expression AS identifier
    ;

rowsPerMatch
    : ONE ROW PER MATCH
    | ALL ROWS PER MATCH
    ;

afterMatchSkip
    : AFTER MATCH SKIP_ (PAST LAST ROW | TO NEXT ROW | TO (FIRST | LAST)? variable=identifier)
    ;

patternAlternation
    : patternConcatenation (PIPE patternConcatenation)*
    ;

patternConcatenation
    : patternQuantified+
    ;

patternQuantified
    : patternPrimary patternQuantifier?
    ;

patternPrimary
    : identifier
    | LPAREN patternAlternation RPAREN
    ;

patternQuantifier
    : (ASTERISK | PLUS | QUESTION
      | LBRACE minimum=INTEGER_VALUE? (comma=COMMA maximum=INTEGER_VALUE?)? RBRACE)
      reluctant=QUESTION?
    ;

patternDefinition
    : identifier AS expression
    ;

joinedSource
    : joinType JOIN aliasedRelation joinWindow? ON expression
    ;

joinType
    : INNER?
    | LEFT OUTER?
    | RIGHT OUTER?
    | FULL OUTER?
    ;

joinWindow
    : WITHIN (duration | LPAREN before=duration COMMA after=duration RPAREN)
      (GRACE PERIOD grace=duration)?
    ;

aliasedRelation
    : sourceName (AS? identifier)?
    ;

// WINDOW [name] TUMBLING|HOPPING|SESSION (...). The kind and the options are checked by
// the AST builder so that mistakes get a precise message instead of a syntax error.
windowExpression
    : windowName=IDENTIFIER? windowKind=identifier LPAREN windowOption (COMMA windowOption)* RPAREN
    ;

windowOption
    : SIZE duration                                     #windowSize
    | ADVANCE BY duration                               #windowAdvance
    | RETENTION duration                                #windowRetention
    | GRACE PERIOD duration                             #windowGrace
    | duration                                          #windowGap
    ;

// `30 SECONDS`: the unit is an identifier, checked by the AST builder.
duration
    : INTEGER_VALUE unit=identifier
    ;

// ------------------------------------------------------------------ DDL pieces

tableElements
    : LPAREN tableElement (COMMA tableElement)* RPAREN
    ;

tableElement
    : WATERMARK FOR column=identifier AS (source=identifier MINUS delay=duration | expression)
                                                            #watermarkElement
    | identifier type columnConstraint?                     #columnElement
    ;

columnConstraint
    : PRIMARY? KEY
    | HEADERS
    | HEADER LPAREN STRING_LITERAL RPAREN
    ;

tableProperties
    : LPAREN tableProperty (COMMA tableProperty)* RPAREN
    ;

tableProperty
    : (identifier | STRING_LITERAL) EQ propertyValue
    ;

propertyValue
    : MINUS? number
    | literal
    ;

columns
    : LPAREN identifier (COMMA identifier)* RPAREN
    ;

values
    : LPAREN (valueExpression (COMMA valueExpression)*)? RPAREN
    ;

sourceName
    : identifier
    ;

// ------------------------------------------------------------------ expressions
// Precedence, loosest first: OR, AND, NOT, predicates (comparison, IS, LIKE, BETWEEN,
// IN), || + -, * / %, unary + -, postfix [i] and ->field, primaries.

expression
    : booleanExpression
    ;

booleanExpression
    : NOT booleanExpression                                             #logicalNot
    | predicated                                                        #booleanDefault
    | left=booleanExpression op=AND right=booleanExpression       #logicalBinary
    | left=booleanExpression op=OR right=booleanExpression        #logicalBinary
    ;

predicated
    : valueExpression predicate?
    ;

predicate
    : comparisonOperator right=valueExpression                                  #comparison
    | NOT? BETWEEN lower=valueExpression AND upper=valueExpression              #between
    | NOT? IN LPAREN expression (COMMA expression)* RPAREN                      #inList
    | NOT? LIKE pattern=valueExpression (ESCAPE escape=valueExpression)?        #like
    | IS NOT? NULL_                                                              #nullPredicate
    | IS NOT? DISTINCT FROM right=valueExpression                               #distinctFrom
    ;

valueExpression
    : primaryExpression                                                         #valueDefault
    | op=(MINUS | PLUS) valueExpression                                   #arithmeticUnary
    | left=valueExpression op=(ASTERISK | SLASH | PERCENT) right=valueExpression
                                                                                #arithmeticBinary
    | left=valueExpression op=(PLUS | MINUS | CONCAT) right=valueExpression
                                                                                #arithmeticBinary
    ;

primaryExpression
    : literal                                                                   #literalExpression
    | INTERVAL (STRING_LITERAL | INTEGER_VALUE) unit=identifier                 #intervalExpression
    | CASE operand=valueExpression whenClause+ (ELSE elseExpression=expression)? END
                                                                                #simpleCase
    | CASE whenClause+ (ELSE elseExpression=expression)? END                    #searchedCase
    | CAST LPAREN expression AS type RPAREN                                     #cast
    | ARRAY LBRACKET (expression (COMMA expression)*)? RBRACKET                 #arrayConstructor
    | MAP LPAREN (mapEntry (COMMA mapEntry)*)? RPAREN                           #mapConstructor
    | STRUCT LPAREN (structEntry (COMMA structEntry)*)? RPAREN                  #structConstructor
    | identifier LPAREN ASTERISK RPAREN                                         #functionCallStar
    | identifier LPAREN (functionArgument (COMMA functionArgument)*)? RPAREN    #functionCall
    | qualifier=identifier DOT column=identifier                                #qualifiedColumnReference
    | identifier                                                                #columnReference
    | LPAREN expression RPAREN                                                  #parenthesizedExpression
    | base=primaryExpression LBRACKET index=valueExpression RBRACKET            #subscript
    | base=primaryExpression ARROW field=identifier                             #dereference
    ;

mapEntry
    : key=expression ASSIGN value=expression
    ;

structEntry
    : identifier ASSIGN expression
    ;

// `A.*`: COUNT(A.*) counts the rows of MATCH_RECOGNIZE's pattern variable A.
functionArgument
    : lambdaFunction
    | qualifier=identifier DOT ASTERISK
    | expression
    ;

lambdaFunction
    : identifier LAMBDA_ARROW expression
    | LPAREN identifier (COMMA identifier)* RPAREN LAMBDA_ARROW expression
    ;

whenClause
    : WHEN condition=expression THEN result=expression
    ;

comparisonOperator
    : EQ | NEQ | LT | LTE | GT | GTE
    ;

literal
    : NULL_                                                                      #nullLiteral
    | (TRUE | FALSE)                                                            #booleanLiteral
    | STRING_LITERAL                                                            #stringLiteral
    | number                                                                    #numericLiteral
    ;

number
    : INTEGER_VALUE
    | DECIMAL_VALUE
    | FLOATING_POINT_VALUE
    ;

// ------------------------------------------------------------------ types

type
    : ARRAY LT type GT                                                          #arrayType
    | MAP LT type COMMA type GT                                                 #mapType
    | STRUCT LT (structField (COMMA structField)*)? GT                           #structType
    | STRUCT NEQ                                                                #emptyStructType
    | identifier (LPAREN INTEGER_VALUE (COMMA INTEGER_VALUE)* RPAREN)?          #namedType
    ;

structField
    : identifier type
    ;

// ------------------------------------------------------------------ identifiers

identifier
    : IDENTIFIER                                                                #unquotedIdentifier
    | nonReserved                                                               #unquotedIdentifier
    | QUOTED_IDENTIFIER                                                         #quotedIdentifier
    | BACKQUOTED_IDENTIFIER                                                     #backQuotedIdentifier
    | DIGIT_IDENTIFIER                                                          #digitIdentifier
    ;

// Keywords that may also name a column, source, alias or function. Only the words the
// grammar cannot do without (SELECT, FROM, WHERE, AND, OR, NOT, ...) are reserved.
nonReserved
    : ADVANCE | ARRAY | BEGINNING | CHANGES | CONNECTOR | CONNECTORS | DELETE | DESCRIBE
    | EMIT | ESCAPE | EXPLAIN
    | EXTENDED | FINAL | FOR | FUNCTION | FUNCTIONS | GRACE | HEADER | HEADERS | IF | INTERVAL
    | KEY | LIST | MAP | PARTITION | PAUSE | PERIOD | PRIMARY | PROPERTIES | QUERIES | REPLACE
    | RESUME | RETENTION | SET | SHOW | SINK | SIZE | SOURCE | STREAM | STREAMS | STRUCT | TABLE | TABLES
    | TERMINATE | TOPIC | TOPICS | TYPE | TYPES | UNSET
    | AFTER | ASC | DEFINE | DESC | FIRST | LAST | MATCH | MEASURES | NEXT | ONE | ORDER | PAST
    | PATTERN | PER | ROW | ROWS | SKIP_ | TO
    | WATERMARK
    ;

// ------------------------------------------------------------------ lexer

// Reserved keywords.
ALL: A L L;
AND: A N D;
AS: A S;
BETWEEN: B E T W E E N;
BY: B Y;
CASE: C A S E;
CAST: C A S T;
CREATE: C R E A T E;
DISTINCT: D I S T I N C T;
DROP: D R O P;
ELSE: E L S E;
END: E N D;
EXISTS: E X I S T S;
FALSE: F A L S E;
FROM: F R O M;
FULL: F U L L;
GROUP: G R O U P;
HAVING: H A V I N G;
IN: I N;
INNER: I N N E R;
INSERT: I N S E R T;
INTO: I N T O;
IS: I S;
JOIN: J O I N;
LEFT: L E F T;
LIKE: L I K E;
LIMIT: L I M I T;
MATCH_RECOGNIZE: M A T C H '_' R E C O G N I Z E;
NOT: N O T;
NULL_: N U L L;
ON: O N;
OR: O R;
OUTER: O U T E R;
RIGHT: R I G H T;
SELECT: S E L E C T;
THEN: T H E N;
TRUE: T R U E;
VALUES: V A L U E S;
WHEN: W H E N;
WHERE: W H E R E;
WINDOW: W I N D O W;
WITH: W I T H;
WITHIN: W I T H I N;

// Non-reserved keywords (see nonReserved).
ADVANCE: A D V A N C E;
ARRAY: A R R A Y;
BEGINNING: B E G I N N I N G;
CHANGES: C H A N G E S;
CONNECTOR: C O N N E C T O R;
CONNECTORS: C O N N E C T O R S;
DELETE: D E L E T E;
DESCRIBE: D E S C R I B E;
EMIT: E M I T;
ESCAPE: E S C A P E;
EXPLAIN: E X P L A I N;
EXTENDED: E X T E N D E D;
FINAL: F I N A L;
FOR: F O R;
FUNCTION: F U N C T I O N;
FUNCTIONS: F U N C T I O N S;
GRACE: G R A C E;
HEADER: H E A D E R;
HEADERS: H E A D E R S;
IF: I F;
INTERVAL: I N T E R V A L;
KEY: K E Y;
LIST: L I S T;
MAP: M A P;
PARTITION: P A R T I T I O N;
PAUSE: P A U S E;
PERIOD: P E R I O D;
PRIMARY: P R I M A R Y;
PROPERTIES: P R O P E R T I E S;
QUERIES: Q U E R I E S;
REPLACE: R E P L A C E;
RESUME: R E S U M E;
RETENTION: R E T E N T I O N;
SET: S E T;
SHOW: S H O W;
SINK: S I N K;
SIZE: S I Z E;
SOURCE: S O U R C E;
STREAM: S T R E A M;
STREAMS: S T R E A M S;
STRUCT: S T R U C T;
TABLE: T A B L E;
TABLES: T A B L E S;
TERMINATE: T E R M I N A T E;
TOPIC: T O P I C;
TOPICS: T O P I C S;
TYPE: T Y P E;
TYPES: T Y P E S;
UNSET: U N S E T;
AFTER: A F T E R;
ASC: A S C;
DEFINE: D E F I N E;
DESC: D E S C;
FIRST: F I R S T;
LAST: L A S T;
MATCH: M A T C H;
MEASURES: M E A S U R E S;
NEXT: N E X T;
ONE: O N E;
ORDER: O R D E R;
PAST: P A S T;
PATTERN: P A T T E R N;
PER: P E R;
ROW: R O W;
ROWS: R O W S;
SKIP_: S K I P;
TO: T O;
// Keep WATERMARK the last keyword: the parser glue treats ADVANCE..WATERMARK as non-reserved.
WATERMARK: W A T E R M A R K;

EQ: '=';
NEQ: '<>' | '!=';
LT: '<';
LTE: '<=';
GT: '>';
GTE: '>=';
PLUS: '+';
MINUS: '-';
ASTERISK: '*';
SLASH: '/';
PERCENT: '%';
CONCAT: '||';
ASSIGN: ':=';
LAMBDA_ARROW: '=>';
ARROW: '->';
LPAREN: '(';
RPAREN: ')';
LBRACKET: '[';
LBRACE: '{';
RBRACE: '}';
QUESTION: '?';
PIPE: '|';
RBRACKET: ']';
COMMA: ',';
DOT: '.';
SEMICOLON: ';';

STRING_LITERAL: '\'' ( ~'\'' | '\'\'' )* '\'';
// Reaches the end of the input: reported as an unterminated string.
UNTERMINATED_STRING_LITERAL: '\'' ( ~'\'' | '\'\'' )*;

INTEGER_VALUE: DIGIT+;
DECIMAL_VALUE: DIGIT+ '.' DIGIT* | '.' DIGIT+;
FLOATING_POINT_VALUE: DIGIT+ ('.' DIGIT*)? EXPONENT | '.' DIGIT+ EXPONENT;

IDENTIFIER: (LETTER | '_') (LETTER | DIGIT | '_' | '@')*;
DIGIT_IDENTIFIER: DIGIT (LETTER | DIGIT | '_' | '@')+;
QUOTED_IDENTIFIER: '"' ( ~'"' | '""' )* '"';
BACKQUOTED_IDENTIFIER: '`' ( ~'`' | '``' )* '`';
UNTERMINATED_QUOTED_IDENTIFIER: '"' ( ~'"' | '""' )* | '`' ( ~'`' | '``' )*;

LINE_COMMENT: '--' ~[\r\n]* -> skip;
BLOCK_COMMENT: '/*' .*? '*/' -> skip;
UNTERMINATED_BLOCK_COMMENT: '/*' ( ~'*' | '*'+ ~[*/] )* '*'*;
WHITESPACE: [ \t\r\n\f]+ -> skip;

// Anything else becomes one token the parser refuses, so the lexer never reports errors.
UNRECOGNIZED: .;

fragment EXPONENT: [eE] [+-]? DIGIT+;
fragment DIGIT: [0-9];
fragment LETTER: [a-zA-Z];

fragment A: [aA];
fragment B: [bB];
fragment C: [cC];
fragment D: [dD];
fragment E: [eE];
fragment F: [fF];
fragment G: [gG];
fragment H: [hH];
fragment I: [iI];
fragment J: [jJ];
fragment K: [kK];
fragment L: [lL];
fragment M: [mM];
fragment N: [nN];
fragment O: [oO];
fragment P: [pP];
fragment Q: [qQ];
fragment R: [rR];
fragment S: [sS];
fragment T: [tT];
fragment U: [uU];
fragment V: [vV];
fragment W: [wW];
fragment X: [xX];
fragment Y: [yY];
fragment Z: [zZ];
