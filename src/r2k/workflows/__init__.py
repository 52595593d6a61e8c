"""The only modules that join the data layer with the engines."""
