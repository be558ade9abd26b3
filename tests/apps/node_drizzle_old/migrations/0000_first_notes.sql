CREATE TABLE IF NOT EXISTS "notes" (
	"id" serial PRIMARY KEY NOT NULL,
	"body" text
);
--> statement-breakpoint
INSERT INTO "notes" ("body") VALUES ('migrated');
