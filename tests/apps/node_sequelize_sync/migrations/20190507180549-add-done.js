module.exports = {
  up: (queryInterface, Sequelize) =>
    queryInterface.addColumn("Notes", "done", { type: Sequelize.BOOLEAN, allowNull: true }),
  down: (queryInterface) => queryInterface.removeColumn("Notes", "done"),
};
