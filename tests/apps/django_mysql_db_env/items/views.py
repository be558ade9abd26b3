from django.db import connection
from django.http import JsonResponse

from .models import Item


def items(request):
    if request.method == "POST":
        Item.objects.create(name=request.body.decode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION(), DATABASE(), CURRENT_USER()")
        version, database, user = cursor.fetchone()
    names = [item.name for item in Item.objects.order_by("id")]
    return JsonResponse(
        {"vendor": connection.vendor, "version": version, "database": database,
         "user": user, "items": names}
    )
