FLASK_APP=teams
