"""URLs of the incidents feature (mounted at /incidents/)."""

app_name = "incidents"
urlpatterns: list = []
