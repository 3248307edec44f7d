from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("profiles/", views.ProfileListView.as_view(), name="profile_list"),
    path("profiles/review/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("profiles/<int:pk>/", views.ProfileDetailView.as_view(), name="profile_detail"),
    path("profiles/<int:pk>/merge/", views.ProfileMergeView.as_view(), name="profile_merge"),
    path("profiles/merges/<int:pk>/undo/", views.MergeUndoView.as_view(), name="merge_undo"),
    path("profiles/links/<int:pk>/confirm/", views.LinkReviewView.as_view(), name="link_confirm"),
    path("profiles/links/<int:pk>/reject/", views.LinkRejectView.as_view(), name="link_reject"),
]
