const { pgTable, serial, text } = require("drizzle-orm/pg-core");

exports.notes = pgTable("notes", { id: serial("id").primaryKey(), body: text("body") });
