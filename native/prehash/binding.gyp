{
  "targets": [
    {
      "target_name": "sigil_prehash",
      "sources": ["prehash.c", "hot.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
