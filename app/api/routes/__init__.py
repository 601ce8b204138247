"""HTTP routes: translate requests to app calls and results to responses, nothing more."""
