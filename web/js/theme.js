// The colour theme: "system" (the system's preference, prefers-color-scheme),
// "light" or "dark". The choice is kept in this browser and shown as
// `data-theme` on <html>, which style.css turns into the page's color-scheme.
// theme-init.js applies the stored choice before the first paint; this module
// applies changes, made here or in another tab.

/** Where the choice is kept (theme-init.js reads the same key). */
const THEME_KEY = 'chitchat.theme';

/** @typedef {'system' | 'light' | 'dark'} Theme */

/** @returns {Theme} */
function storedTheme() {
  try {
    const theme = localStorage.getItem(THEME_KEY);
    return theme === 'light' || theme === 'dark' ? theme : 'system';
  } catch {
    return 'system';
  }
}

/** The choice in force (kept here too: storage may be unavailable). */
let current = storedTheme();

/** @returns {Theme} */
export function currentTheme() {
  return current;
}

/** @param {Theme} theme */
function applyTheme(theme) {
  current = theme;
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
  // The browser's own bar: each theme-color tag applies with its scheme; a picked theme makes its tag apply always.
  for (const meta of document.querySelectorAll('meta[name="theme-color"][data-scheme]')) {
    if (!(meta instanceof HTMLMetaElement)) continue;
    const scheme = meta.dataset.scheme;
    meta.media = theme === 'system' ? `(prefers-color-scheme: ${scheme})` : theme === scheme ? 'all' : 'not all';
  }
}

/**
 * Keeps and applies a new choice.
 * @param {Theme} theme
 */
export function saveTheme(theme) {
  try {
    if (theme === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, theme);
  } catch {
    // No storage: the choice lasts until the page is closed.
  }
  applyTheme(theme);
}

/**
 * Applies the stored choice now and whenever another tab changes it.
 * @param {(theme: Theme) => void} onChange  after a change made in another tab
 */
export function startTheme(onChange) {
  applyTheme(current);
  window.addEventListener('storage', (event) => {
    if (event.key !== THEME_KEY && event.key !== null) return; // null: storage cleared
    applyTheme(storedTheme());
    onChange(current);
  });
}
