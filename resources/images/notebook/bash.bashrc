
# canfar-desktop: programs installed with `pip install --user` live in ~/.local/bin under /arc/home.
case ":$PATH:" in
  *":$HOME/.local/bin:"*) ;;
  *) PATH="$HOME/.local/bin:$PATH" ;;
esac
