exports.up = async ({ context: pool }) => {
  await pool.query("CREATE TABLE items (name text)");
  await pool.query("INSERT INTO items VALUES ('first')");
};

exports.down = async ({ context: pool }) => {
  await pool.query("DROP TABLE items");
};
