"""URLs of the policy feature (mounted at /policy/)."""

app_name = "policy"
urlpatterns: list = []
