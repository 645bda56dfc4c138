"""bankml: ship AI features into a regulated bank without breaking auditability.

The package follows the layers in DESIGN.md; dependencies point downward only:

    faces       cli, api, web
    use cases   fraud, credit, policy, monitoring
    governance  registry, gates, approvals, ledger
    data        generator, schemas, quality checks, features
    core        settings, storage, identity, pii, errors, logging
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
