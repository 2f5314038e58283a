app_name = "mappings"
urlpatterns: list = []
