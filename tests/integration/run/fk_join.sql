-- A foreign-key join over partitions (subscription and response topics), whose state must
-- survive a restart: the left table's versions, the right table's subscriptions and rows,
-- and the resolver's versions.
CREATE TABLE customers (id STRING PRIMARY KEY, name STRING)
  WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE TABLE orders (order_id STRING PRIMARY KEY, customer STRING, amount INT)
  WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=3);
CREATE TABLE order_customers AS
  SELECT o.order_id, o.amount, c.name FROM orders o JOIN customers c ON o.customer = c.id;
