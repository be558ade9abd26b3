module.exports = {
  getAll: (req, res) => res.json([{ id: 7, title: "Dune" }]),
  remove: (req, res) => res.status(204).end(),
};
