module.exports = { fromRoot: true };
