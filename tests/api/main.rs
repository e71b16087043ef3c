mod binary;
mod helpers;
mod login;
mod permissions;
mod roles;
mod sessions;
mod users_admin;
mod users_read;
