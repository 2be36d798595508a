"""Delivery channels: email through Django's email framework, SMS through a provider backend."""
