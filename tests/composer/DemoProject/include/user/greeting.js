// The author's own script: the greeting chosen by the number dialled.
function greetingFor(dnis) {
  return dnis === '5000' ? 'sales' : 'support';
}
