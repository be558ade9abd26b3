"use strict";

module.exports = {
	name: "greeter",
	actions: {
		hello() {
			return { hello: "world" };
		},
	},
};
