from setuptools import find_packages, setup

# A pin the newest release breaks: Werkzeug 3 has no url_quote, which Flask 2.2 imports.
REQUIRES = ["flask>=2.2,<2.3", "werkzeug<2.4"]

setup(name="teams", packages=find_packages(), install_requires=REQUIRES)
