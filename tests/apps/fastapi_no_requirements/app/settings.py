import yaml

DEFAULTS = yaml.safe_load("greeting: hello from yaml\nitems: [apple, pear]\n")
