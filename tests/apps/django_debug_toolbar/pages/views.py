from django.http import JsonResponse


def home(request):
    return JsonResponse({"page": "home"})


def about(request):
    return JsonResponse({"page": "about"})
