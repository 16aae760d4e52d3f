"""OAuth 2.0 for mail logins: sign-in flows, tokens and their claims, XOAUTH2 diagnosis.

Headless (httpx, never textual). Microsoft identity platform device code flow and Google's
installed-app loopback flow with PKCE; refresh tokens are the caller's to keep (the workspace
puts them in the keyring), access tokens live in memory.
"""
