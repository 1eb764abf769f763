// Users and their roles (admins only: the server refuses anyone else).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText } from '../api.js';
import { Alert } from '../util.js';

export function Admin() {
  const [users, setUsers] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api('GET', '/api/v1/users').then((r) => (r.ok ? setUsers(r.data.items) : setError(errorText(r))));
  }, []);
  return html`<h1>Users</h1>
    ${error && html`<${Alert}>${error}<//>`}
    ${users && html`<table>
      <caption class="visually-hidden">Users and their roles</caption>
      <thead><tr><th scope="col">User</th><th scope="col">Roles</th><th scope="col">Active tokens</th></tr></thead>
      <tbody>${users.map((u) => html`<tr><td>${u.name}</td><td>${u.roles.join(', ')}</td><td>${u.tokens.length}</td></tr>`)}</tbody>
    </table>`}`;
}
