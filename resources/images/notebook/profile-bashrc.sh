# canfar-desktop: JupyterLab's terminals run bash as a login shell, which reads ~/.profile but not
# ~/.bashrc; CANFAR's guide keeps personal settings in ~/.bashrc, so a login shell reads it too when
# the person has no login file of their own (one of those, when present, decides as usual).
case "$-" in
  *i*)
    if [ -n "${BASH_VERSION:-}" ] && [ -f "$HOME/.bashrc" ] && [ ! -f "$HOME/.bash_profile" ] \
       && [ ! -f "$HOME/.bash_login" ] && [ ! -f "$HOME/.profile" ]; then
      . "$HOME/.bashrc"
    fi
    ;;
esac
