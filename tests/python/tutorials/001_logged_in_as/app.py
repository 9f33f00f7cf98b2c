from flask import Flask, render_template, request, redirect, url_for, session
import os
app = Flask(__name__)
app.secret_key = os.urandom(24)

@app.route('/')
def index():
   username = ''
   if 'username' in session:
      username = session['username']
   return render_template('index.html', username=username)

@app.route('/login', methods=['POST', 'GET'])
def login():
   if request.method == 'POST':
      session['username'] = request.form['username']
      return redirect(url_for('index'))
   return render_template('login.html')

@app.route('/logout')
def logout():
   # remove the username from the session if it is there
   session.pop('username', None)
   return redirect(url_for('index'))

if __name__=="__main__":
    app.run(port=int(os.environ.get('PORT', 5000)), debug=True)
