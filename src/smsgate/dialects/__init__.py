"""The vendor dialects: each speaks one vendor's HTTP API on its own paths and only translates."""
