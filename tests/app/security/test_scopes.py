from app.security.scopes import grants


def test_scope_rules():
    assert grants(["admin"], "inference.video") and grants(["admin"], "admin")
    assert grants(["federated.*"], "federated.join") and not grants(["federated.*"], "benchmark.read")
    assert not grants(["models.read"], "models.write") and not grants(["inference.*"], "admin")
