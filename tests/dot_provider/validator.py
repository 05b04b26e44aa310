from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """The ID token carries the email claims, how the person signed in (`amr`) and, for a person in
    an Entra-like tenant, `tid` and `xms_edov` (the tenant vouches for the email's domain)."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "amr": "openid", "tid": "openid", "xms_edov": "openid"}

    def get_additional_claims(self, request):
        user = request.user
        person = user.person
        claims = {
            "email": user.email,
            "email_verified": person.email_verified,
            "name": user.get_full_name() or user.username,
            "amr": person.last_methods or ["pwd"],
        }
        if person.tenant:
            claims["tid"] = person.tenant
            claims["xms_edov"] = person.email_verified
        return claims
