-- First start of the compose PostgreSQL: one database per service, all owned
-- by the role the entrypoint created (POSTGRES_USER). Each service migrates
-- its own schema at start.
CREATE DATABASE signet_blog;
CREATE DATABASE signet_scraper;
