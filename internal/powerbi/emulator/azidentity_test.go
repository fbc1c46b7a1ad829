package emulator_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
)

// Azure's own identity library (MSAL underneath) gets a Power BI token from
// the emulator over TLS, with instance discovery off as offline machines
// need; the token is a JWT signed with the published key set, with Power
// BI's claims, and the Scanner API takes it.
func TestAzidentityGetsATokenOverTLS(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "datahub-scanresult-multi-platform.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := &emulator.Fixture{TenantID: "contoso", ClientID: "app", ClientSecret: "s3cret", ScanResult: raw}
	e, err := emulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(e)
	t.Cleanup(srv.Close)
	cred, err := azidentity.NewClientSecretCredential(f.TenantID, f.ClientID, f.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: srv.URL + "/"}, Transport: srv.Client()},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://analysis.windows.net/powerbi/api/.default"}})
	if err != nil {
		t.Fatalf("azidentity: %v", err)
	}
	claims := verifiedClaims(t, srv, f.TenantID, tok.Token)
	if claims["aud"] != "https://analysis.windows.net/powerbi/api" || claims["tid"] != "contoso" || claims["appid"] != "app" {
		t.Fatalf("claims %v", claims)
	}
	if roles, _ := claims["roles"].([]any); len(roles) == 0 {
		t.Fatalf("no roles: %v", claims)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1.0/myorg/admin/workspaces/modified", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := srv.Client().Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the Scanner API with the token: %v %v", err, resp)
	}
	resp.Body.Close()
}

// verifiedClaims checks the token's signature with the key set the
// discovery document points at, as a resource server would.
func verifiedClaims(t *testing.T, srv *httptest.Server, tenant, token string) jwt.MapClaims {
	t.Helper()
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
		Issuer  string `json:"issuer"`
	}
	getJSON(t, srv, srv.URL+"/"+tenant+"/v2.0/.well-known/openid-configuration", &doc)
	if doc.Issuer != srv.URL+"/"+tenant+"/v2.0" {
		t.Fatalf("issuer %q is not the emulator's https URL", doc.Issuer)
	}
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	getJSON(t, srv, doc.JWKSURI, &set)
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		for _, k := range set.Keys {
			if k.Kid == tok.Header["kid"] {
				n, _ := base64.RawURLEncoding.DecodeString(k.N)
				e, _ := base64.RawURLEncoding.DecodeString(k.E)
				return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
			}
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		t.Fatalf("the token does not verify with the published keys: %v", err)
	}
	return claims
}

func getJSON(t *testing.T, srv *httptest.Server, url string, v any) {
	t.Helper()
	resp, err := srv.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// A token for another resource than Power BI is refused as Entra ID refuses it.
func TestTokenForAnotherResourceIsRefused(t *testing.T) {
	_, srv, _ := tenant(t, false)
	for scope, want := range map[string]int{
		"https://graph.microsoft.com/.default":                                 400,
		"https://analysis.windows.net/powerbi/api/.default openid profile":     200,
		"https://analysis.windows.net/powerbi/api/.default https://x/.default": 400,
	} {
		resp, err := http.PostForm(srv.URL+"/contoso/oauth2/v2.0/token", map[string][]string{"grant_type": {"client_credentials"},
			"client_id": {"app"}, "client_secret": {"s3cret"}, "scope": {scope}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("scope %q: %d, want %d", scope, resp.StatusCode, want)
		}
	}
}
