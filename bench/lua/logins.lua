-- POSTs /api/v1/login bodies for the accounts in $BENCH_LOGIN_USERS (space-separated
-- username:password pairs), one account after another. tokend checks one account's secrets
-- one at a time (fair sharing of the hashing threads), so a login benchmark spreads its
-- load over several accounts, as real logins are.
local accounts = {}
for pair in string.gmatch(os.getenv("BENCH_LOGIN_USERS") or "", "%S+") do
  local user, password = string.match(pair, "([^:]+):(.+)")
  accounts[#accounts + 1] = string.format('{"user":"%s","password":"%s"}', user, password)
end
local next_index = 0

request = function()
  next_index = next_index % #accounts + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, accounts[next_index])
end
