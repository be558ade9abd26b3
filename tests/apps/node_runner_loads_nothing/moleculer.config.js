"use strict";

module.exports = {
	logger: true,
	logLevel: "info",
};
