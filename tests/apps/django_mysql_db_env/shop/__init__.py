import pymysql

pymysql.install_as_MySQLdb()  # Django's MySQL backend imports MySQLdb
