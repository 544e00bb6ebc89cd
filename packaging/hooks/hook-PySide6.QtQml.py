"""Overrides PyInstaller's QtQml hook: the app is a Widgets app and loads no QML, so the QML plugins (which would
pull in Qt 3D, Multimedia, Quick 3D and friends, about 250 MB) stay out. QtWebEngine still gets the Qml and Quick
libraries it links against through the ordinary dependency analysis."""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
