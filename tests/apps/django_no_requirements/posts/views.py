from django.http import JsonResponse


def posts(request):
    return JsonResponse({"posts": ["hello"]})
