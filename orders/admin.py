from django.contrib import admin

from .models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "categories", "capacity", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
