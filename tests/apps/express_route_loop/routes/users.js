const users = [{ id: 1, name: "ada" }];
module.exports = {
  getAll: (req, res) => res.json(users),
  getById: (req, res) => res.json(users.find((u) => u.id === Number(req.params.id)) || null),
  create: (req, res) => res.status(201).json(req.body),
};
