{
  "targets": [
    {
      "target_name": "sigil_prehash",
      "sources": ["prehash.c", "hot.c", "comb.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
