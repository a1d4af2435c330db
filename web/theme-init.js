// The theme picked in the settings, applied before the first paint. A classic
// script in <head> (a module would run only after the page is parsed, showing
// the system's theme for a moment). js/theme.js changes it later.
{
  try {
    const theme = localStorage.getItem('chitchat.theme');
    if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  } catch {
    // No storage: the system's theme.
  }
}
