"""The HTTP API: the blueprints (decisions and the other policy documents, authorization
requirements, the explorer page), request bodies, bearer tokens and the OpenAPI document."""
