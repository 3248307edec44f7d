"""A NUL character in an identifier the consent API is asked about is a 400, never a 500."""


def test_consent_state_of_an_identifier_holding_a_nul_is_a_400(admin_api):
    response = admin_api.get("/api/v1/consent-state/?identifier=%00")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_identifier"
