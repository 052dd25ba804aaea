package redact_test

// jwt is a token of the shape the package redacts wherever it finds one.
const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
