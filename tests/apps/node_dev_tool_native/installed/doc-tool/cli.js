#!/usr/bin/env node
require("sleepy");
