{
  "targets": [
    {
      "target_name": "sigil_prehash",
      "sources": ["prehash.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
