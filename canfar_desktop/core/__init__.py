"""The Qt-free core: sessions as labelled containers, shared by the CLI and the desktop app."""
