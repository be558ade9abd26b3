module.exports = {
  up: (queryInterface, Sequelize) =>
    queryInterface.createTable("Notes", {
      id: { allowNull: false, autoIncrement: true, primaryKey: true, type: Sequelize.INTEGER },
      text: { type: Sequelize.STRING, allowNull: false },
    }),
  down: (queryInterface) => queryInterface.dropTable("Notes"),
};
