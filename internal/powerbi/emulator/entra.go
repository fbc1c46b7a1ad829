package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// powerBIAudience is the resource Power BI tokens are for.
const powerBIAudience = "https://analysis.windows.net/powerbi/api"

// signingKey is the key the emulator signs its tokens with, published at
// jwks_uri, as Entra ID publishes its own.
type signingKey struct {
	key *rsa.PrivateKey
	kid string
}

func newSigningKey() (*signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &signingKey{key: k, kid: newID()}, nil
}

// base is the emulator's URL as the client reached it: https behind TLS.
func base(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// openIDConfiguration is the tenant's discovery document, with what
// MSAL-based clients (azidentity) read, every URL the emulator's own.
func (e *Emulator) openIDConfiguration(r *http.Request) map[string]any {
	tenant := base(r) + "/" + e.fixture.TenantID
	return map[string]any{
		"issuer":                                tenant + "/v2.0",
		"authorization_endpoint":                tenant + "/oauth2/v2.0/authorize",
		"token_endpoint":                        tenant + "/oauth2/v2.0/token",
		"device_authorization_endpoint":         tenant + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  tenant + "/oauth2/v2.0/logout",
		"jwks_uri":                              base(r) + "/" + e.fixture.TenantID + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
	}
}

// keys is the key set at jwks_uri.
func (e *Emulator) keys() map[string]any {
	pub := e.signing.key.PublicKey
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": e.signing.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

// accessToken is a Power BI token as Entra ID issues one to an app: a JWT
// signed with the published key, with the claims Power BI reads.
func (e *Emulator) accessToken(r *http.Request, lifetime time.Duration) (string, error) {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"aud": powerBIAudience, "iss": "https://sts.windows.net/" + e.fixture.TenantID + "/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(lifetime).Unix(),
		"tid": e.fixture.TenantID, "appid": e.fixture.ClientID, "appidacr": "1", "idtyp": "app",
		"oid": newID(), "sub": newID(), "roles": []string{"Tenant.Read.All"}, "ver": "1.0",
	})
	t.Header["kid"] = e.signing.kid
	return t.SignedString(e.signing.key)
}

// discovery answers the tenant's discovery document and key set.
func (e *Emulator) discovery(w http.ResponseWriter, r *http.Request) bool {
	prefix := "/" + e.fixture.TenantID
	switch {
	case r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, prefix+"/"):
		return false
	case r.URL.Path == prefix+"/v2.0/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(e.openIDConfiguration(r))
	case r.URL.Path == prefix+"/discovery/v2.0/keys":
		_ = json.NewEncoder(w).Encode(e.keys())
	default:
		return false
	}
	return true
}

// powerBIScope says whether a client-credentials scope asks for Power BI:
// its .default scope, with the OpenID scopes MSAL adds (Entra ID takes them
// beside a resource's .default), and nothing else.
func powerBIScope(scope string) bool {
	found := false
	for _, s := range strings.Fields(scope) {
		switch s {
		case powerBIAudience + "/.default":
			found = true
		case "openid", "offline_access", "profile", "email":
		default:
			return false
		}
	}
	return found
}
