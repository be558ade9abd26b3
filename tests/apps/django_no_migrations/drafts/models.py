from django.db import models


class Draft(models.Model):
    text = models.TextField()
