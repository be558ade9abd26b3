exports.up = (knex) =>
  knex.schema
    .createTable("items", (table) => {
      table.increments("id");
      table.string("name").notNullable();
    })
    .then(() => knex("items").insert({ name: "migrated" }));

exports.down = (knex) => knex.schema.dropTable("items");
