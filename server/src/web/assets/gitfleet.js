// Gitfleet's few enhancements; every page works without them.
document.addEventListener('click', (event) => {
  const copy = event.target.closest('[data-copy]');
  if (copy) {
    navigator.clipboard.writeText(copy.getAttribute('data-copy')).then(() => {
      const label = copy.textContent;
      copy.textContent = 'Copied';
      setTimeout(() => (copy.textContent = label), 1500);
    });
  }
});
document.addEventListener('change', (event) => {
  const select = event.target.closest('select[data-autosubmit]');
  if (select) select.form.submit();
});
document.addEventListener('submit', (event) => {
  const message = event.target.getAttribute('data-confirm');
  if (message && !window.confirm(message)) event.preventDefault();
});
